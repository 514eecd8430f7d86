// The login page.
export default {
  title: 'Log in',
  username: 'User name',
  password: 'Password',
  submit: 'Log in',
  submitting: 'Logging in…',
  required: 'Please enter the {field}.',
  expired: 'Your session has expired; please log in again.',
  failed: 'Could not log in: {message}',
}
