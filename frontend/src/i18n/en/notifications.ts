// In-app notifications bell (English).
export default {
  bell: 'Notifications',
  unread: '{n} unread notifications',
  empty: 'No notifications yet.',
  readAll: 'Mark all as read',
}
