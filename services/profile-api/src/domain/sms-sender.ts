/** The domain's view of the SMS provider; adapters live in data-access. */
export interface SmsSender {
  send(to: string, text: string): Promise<void>;
}
