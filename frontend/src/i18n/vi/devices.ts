// Trang cảm biến và thiết bị (tiếng Việt).
export default {
  nav: 'Cảm biến',
  title: 'Cảm biến và trạm quan trắc',
  total: '{n} cảm biến',
  search: 'Tìm theo tên hoặc mã',
  type: 'Loại',
  state: 'Tình trạng',
  all: 'Tất cả',
  name: 'Tên',
  values: 'Giá trị mới nhất',
  observed: 'Thời điểm đo',
  empty: 'Không có cảm biến nào.',
  states: { normal: 'Bình thường', warning: 'Cảnh báo', danger: 'Nguy hiểm', unknown: 'Chưa rõ' },
}
