// Slack mrkdwn escaping: text from people and records is shown as typed, and can never ping a
// channel (`<!channel>`), link, or mention anyone.
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
