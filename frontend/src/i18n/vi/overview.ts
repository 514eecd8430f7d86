// Màn hình tổng quan IOC (màn hình lớn).
export default {
  title: 'Tổng quan tỉnh',
  map: 'Bản đồ tổng quan',
  layers: {
    title: 'Lớp bản đồ',
    boundaries: 'Ranh giới hành chính',
    sensors: 'Cảm biến',
    places: 'Cơ sở (trường học, y tế, du lịch…)',
    reports: 'Phản ánh hiện trường',
    alerts: 'Cảnh báo đang mở',
    choropleth: 'Số phản ánh theo xã/phường',
  },
  kpis: { title: 'Chỉ tiêu', empty: 'Chưa có chỉ tiêu nào được đăng ký.' },
  feed: { title: 'Cảnh báo và sự kiện trực tiếp', empty: 'Chưa có sự kiện mới.' },
  detail: {
    title: 'Chi tiết',
    latest: 'Giá trị mới nhất',
    history: 'Diễn biến gần đây',
    alerts: 'Cảnh báo liên quan',
    noHistory: 'Chưa có dữ liệu lịch sử.',
    observedAt: 'Thời điểm đo',
  },
  state: { normal: 'Bình thường', warning: 'Cảnh báo', danger: 'Nguy hiểm', unknown: 'Chưa rõ' },
  severity: { info: 'Thông tin', minor: 'Thấp', moderate: 'Trung bình', major: 'Cao', critical: 'Khẩn cấp' },
  events: {
    report_created: 'Phản ánh mới',
    status_changed: 'Phản ánh đổi trạng thái',
    alert: 'Cảnh báo',
    other: 'Sự kiện',
  },
}
