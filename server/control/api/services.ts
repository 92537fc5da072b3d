import type { AccessEvaluator } from '../access/access-evaluator.ts';
import type { AccessRequestService } from '../access/access-requests.ts';
import type { UserService } from '../access/users.ts';
import type { AuthService } from '../auth/auth-service.ts';
import type { MfaServices } from '../auth/mfa/wire.ts';
import type { Permissions } from '../auth/permissions.ts';
import type { Audit } from '../audit.ts';
import type { CookieSession } from '../console/cookie-session.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { GatewayService } from '../gateways.ts';
import type { Metrics } from '../metrics.ts';
import type { SessionRelay, SessionService } from '../sessions.ts';
import type { Store } from '../store/store.ts';
import type { WebAccess } from '../web-access/web-access.ts';

/** What route handlers work with. */
export interface Services extends Omit<MfaServices, 'mailer'> {
  store: Store;
  auth: AuthService;
  permissions: Permissions;
  sessions: SessionService;
  gateways: GatewayService;
  box: SecretBox;
  audit: Audit;
  relay: SessionRelay;
  metrics: Metrics;
  users: UserService;
  access: AccessEvaluator;
  accessRequests: AccessRequestService;
  /** The configured public URL (`--public-url`), else the listening address; no trailing slash. */
  publicUrl(): string;
  /** The web console's browser session (refresh cookie + CSRF token). */
  cookieSession: CookieSession;
  /** Web Access: web sessions held by this replica (issue 12). */
  webAccess: WebAccess;
}
