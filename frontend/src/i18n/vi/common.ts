// Chuỗi dùng chung của giao diện (tiếng Việt, ngôn ngữ mặc định).
export default {
  app: { name: 'CityOps', title: 'Trung tâm giám sát, điều hành đô thị thông minh' },
  shift: { morning: 'Ca sáng', afternoon: 'Ca chiều', night: 'Ca đêm', label: 'Ca trực' },
  nav: { main: 'Điều hướng chính', overview: 'Tổng quan', apiDocs: 'Tài liệu API' },
  lang: { switch: 'Ngôn ngữ', vi: 'Tiếng Việt', en: 'English' },
  user: { menu: 'Tài khoản', logout: 'Đăng xuất', role: 'Vai trò' },
  roles: {
    admin: 'Quản trị hệ thống',
    operator: 'Cán bộ vận hành IOC',
    leader: 'Lãnh đạo',
    agency_staff: 'Cán bộ cơ quan xử lý',
    unit_operator: 'Cán bộ vận hành cấp cơ sở',
    integrator: 'Tích hợp hệ thống',
  },
  live: {
    connected: 'Đang nhận dữ liệu trực tiếp',
    connecting: 'Đang kết nối…',
    reconnecting: 'Đang kết nối lại…',
    lost: 'Mất kết nối máy chủ — dữ liệu trên màn hình có thể đã cũ.',
  },
  errors: {
    generic: 'Đã có lỗi: {message}',
    network: 'Không kết nối được máy chủ.',
    notFound: 'Không tìm thấy trang này.',
    back: 'Về trang tổng quan',
  },
  common: { loading: 'Đang tải…', close: 'Đóng', none: 'Không có', unknown: '—' },
}
