/** The success body of every endpoint but login (which answers as RFC 6749 says). */
interface Envelope<T> {
  success: true;
  message: string;
  data: T;
}

export function envelope<T>(message: string, data: T): Envelope<T> {
  return { success: true, message, data };
}
