import { createPrivateKey, type KeyObject } from 'node:crypto';
import { openSealed, targetPasswordContext } from '../../proxy-core/src/tunnel/sealed-secret.ts';
import type { SealedUpstreamTarget } from '../../proxy-core/src/tunnel/meta.ts';
import type { UpstreamTarget } from '../../proxy-core/src/upstream/types.ts';
import type { GatewayIdentity } from './identity.ts';

/**
 * Opens the target password the control plane sealed to this gateway's key for one session
 * (issue 10 item 1). Throws DECRYPT_FAILED when it was sealed to another key or session.
 */
export class TargetOpener {
  readonly #key: KeyObject;

  constructor(private readonly identity: Pick<GatewayIdentity, 'gatewayId' | 'keyPem'>) {
    this.#key = createPrivateKey(identity.keyPem);
  }

  open(target: SealedUpstreamTarget, sessionId: string): UpstreamTarget {
    const { passwordSealed, ...rest } = target;
    return { ...rest, password: openSealed(passwordSealed, this.#key, targetPasswordContext(this.identity.gatewayId, sessionId)) };
  }
}
