// The bot's outgoing Bot Connector token, from a client-credentials grant at TEAMS_TOKEN_URL. The Teams
// SDK's own path (MSAL) refuses any authority but Microsoft's, and it asks for a token on every send,
// so the token is fetched here and kept until shortly before it expires.
import { ClientCredentials, type AccessToken } from 'simple-oauth2';

export const botFrameworkScope = 'https://api.botframework.com/.default';
/** Renewed this long before it expires, so no send carries a token that lapses on the way. */
const renewBeforeSeconds = 300;

export interface TeamsTokenSettings {
  clientId: string;
  clientSecret: string;
  tokenUrl: string;
}

export class TeamsTokenClient {
  private readonly oauth: ClientCredentials;
  private current?: AccessToken;
  private pending?: Promise<AccessToken>;

  constructor(settings: TeamsTokenSettings) {
    const url = new URL(settings.tokenUrl);
    this.oauth = new ClientCredentials({
      client: { id: settings.clientId, secret: settings.clientSecret },
      auth: { tokenHost: url.origin, tokenPath: url.pathname },
      options: { authorizationMethod: 'body' },
    });
  }

  async token(): Promise<string> {
    if (!this.current || this.current.expired(renewBeforeSeconds)) {
      // Concurrent sends share one request for a new token.
      this.pending ??= this.oauth.getToken({ scope: botFrameworkScope }).finally(() => {
        this.pending = undefined;
      });
      this.current = await this.pending;
    }
    return String(this.current.token.access_token);
  }
}
