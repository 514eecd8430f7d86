// Màn hình lãnh đạo trên điện thoại (tiếng Việt).
export default {
  nav: 'Lãnh đạo',
  title: 'Tình hình hôm nay',
  kpis: 'Chỉ số chính',
  reports: 'Phản ánh hiện trường (90 ngày)',
  received: 'Tiếp nhận',
  processed: 'Đã xử lý',
  onTime: 'Đúng hạn',
  satisfied: 'Hài lòng',
  alerts: 'Cảnh báo đang xử lý',
  noAlerts: 'Không có cảnh báo đang mở.',
  incidents: 'Sự cố hôm nay',
  noIncidents: 'Hôm nay chưa có sự cố.',
  overdue: 'Phản ánh quá hạn',
  noOverdue: 'Không có phản ánh quá hạn.',
  more: 'Xem tất cả ({n})',
  updated: 'Cập nhật lúc {time}',
}
