// Trang đăng nhập.
export default {
  title: 'Đăng nhập',
  username: 'Tên đăng nhập',
  password: 'Mật khẩu',
  submit: 'Đăng nhập',
  submitting: 'Đang đăng nhập…',
  required: 'Vui lòng nhập {field}.',
  expired: 'Phiên làm việc đã hết hạn, vui lòng đăng nhập lại.',
  failed: 'Đăng nhập không thành công: {message}',
}
