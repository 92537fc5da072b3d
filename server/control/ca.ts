/**
 * The internal CA, created on first start and kept in settings: the certificate in the
 * clear, the private key sealed with the root-derived encryption key.
 */
import { CertificateAuthority } from '../../proxy-core/src/tls/certs.ts';
import { ErrorCodes, GatehouseError } from '../../proxy-core/src/errors.ts';
import type { SecretBox } from './crypto/secret-box.ts';
import type { Store } from './store/store.ts';

export const CA_CERT_SETTING = 'ca.certificate';
export const CA_KEY_SETTING = 'ca.key.sealed';
const CA_KEY_AAD = `settings:${CA_KEY_SETTING}`;

export async function loadOrCreateCa(store: Store, box: SecretBox): Promise<CertificateAuthority> {
  const existing = await loadCa(store, box);
  if (existing) return existing;
  const created = await CertificateAuthority.create({ commonName: 'Gatehouse internal CA' });
  const wrote = await store.settings.insertAllIfAbsent({
    [CA_CERT_SETTING]: created.certPem,
    [CA_KEY_SETTING]: box.seal(created.keyPem, CA_KEY_AAD),
  });
  if (wrote) return created;
  // Another replica created it at the same moment: use theirs.
  const theirs = await loadCa(store, box);
  if (!theirs) throw new GatehouseError(ErrorCodes.INTERNAL, 'the internal CA could not be stored');
  return theirs;
}

async function loadCa(store: Store, box: SecretBox): Promise<CertificateAuthority | undefined> {
  const values = await store.settings.getMany([CA_CERT_SETTING, CA_KEY_SETTING]);
  const certPem = values.get(CA_CERT_SETTING);
  const sealedKey = values.get(CA_KEY_SETTING);
  if (certPem === undefined || sealedKey === undefined) return undefined;
  return CertificateAuthority.load({ certPem, keyPem: box.openString(sealedKey, CA_KEY_AAD) });
}
