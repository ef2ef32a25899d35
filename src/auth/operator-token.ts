import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Config } from '../config';
import { HttpError } from '../errors';
import type { Logger } from '../logger';
import { IssuerKeys } from './issuer-keys';

/** Roles and groups a Keycloak-style or generic OIDC access token carries. */
function rolesOf(payload: JWTPayload): string[] {
  const p = payload as JWTPayload & { realm_access?: { roles?: unknown }; roles?: unknown; groups?: unknown };
  const lists = [p.realm_access?.roles, p.roles, p.groups];
  return lists.flatMap((l) => (Array.isArray(l) ? l.filter((r): r is string => typeof r === 'string') : []));
}

/**
 * Verifies the operator's access token that Temporal UI passes to the codec endpoint
 * (`codec.passAccessToken`): signature by the issuer's JWKS, `iss`, `exp`, and the operator role.
 */
export class OperatorTokenVerifier {
  private readonly keys: IssuerKeys;
  private readonly issuer: string | undefined;

  constructor(
    private readonly config: Pick<
      Config,
      'CODEC_JWKS_URL' | 'CODEC_ISSUER' | 'CODEC_OPERATOR_ROLE' | 'AUTH_JWKS_URL' | 'AUTH_ISSUER' | 'AUTH_ALGORITHMS'
    >,
    logger: Logger,
  ) {
    const url = config.CODEC_JWKS_URL ?? config.AUTH_JWKS_URL;
    if (!url) throw new Error('CODEC_AUTH=jwt needs CODEC_JWKS_URL or AUTH_JWKS_URL');
    this.keys = new IssuerKeys(url, 30_000, logger);
    this.issuer = config.CODEC_ISSUER || config.AUTH_ISSUER || undefined;
  }

  /** Resolves for an operator; 401 for a missing or invalid token, 403 without the role. */
  async verify(authorization: string | undefined): Promise<void> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m) throw new HttpError('unauthorized', 'Codec endpoint needs an operator access token');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(m[1]!, this.keys.getKey, {
        algorithms: this.config.AUTH_ALGORITHMS,
        issuer: this.issuer,
        requiredClaims: ['sub', 'exp'],
        clockTolerance: 5,
      }));
    } catch (err) {
      if (err instanceof HttpError) throw err;
      const expired = err instanceof joseErrors.JWTExpired;
      throw new HttpError('unauthorized', expired ? 'Operator token has expired' : 'Invalid operator token');
    }
    if (!rolesOf(payload).includes(this.config.CODEC_OPERATOR_ROLE)) {
      throw new HttpError('forbidden', `Operator token lacks the ${this.config.CODEC_OPERATOR_ROLE} role`);
    }
  }
}
