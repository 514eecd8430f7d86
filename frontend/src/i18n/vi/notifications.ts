// Chuông thông báo trong ứng dụng (tiếng Việt).
export default {
  bell: 'Thông báo',
  unread: '{n} thông báo chưa đọc',
  empty: 'Chưa có thông báo.',
  readAll: 'Đánh dấu đã đọc hết',
}
