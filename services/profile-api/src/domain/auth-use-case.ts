import { createHash, randomBytes } from 'node:crypto';
import Joi from 'joi';
import { fieldError, throttled } from './errors.ts';
import { dummyPasswordHash, hashPassword, needsRehash, verifyPassword } from './password.ts';
import type { Session, Sessions, Users } from './ports.ts';
import type { ProfileRules } from './profile-schema.ts';
import type { Throttler } from './throttler.ts';
import type { User } from './user.ts';
import { validateOrThrow } from './validation-errors.ts';

export interface AuthUseCaseDeps {
  users: Users;
  sessions: Sessions;
  profileRules: ProfileRules;
  defaultLanguageCode: string;
  throttler: Throttler;
  /** Observes every login refused because its account spent its attempts (metrics). */
  onLoginLocked?: () => void;
}

/** The account a login names, as the attempt counter knows it: no email in the key. */
function accountKey(email: string): string {
  return createHash('sha256').update(email.toLowerCase()).digest('hex');
}

/** ≥ 128 bits from the CSPRNG, URL-safe: session ids and CSRF tokens. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

const registrationSchema = Joi.object({
  email: Joi.string().trim().email().max(254).required(),
  password: Joi.string().min(8).max(128).required(),
  first_name: Joi.string().max(50).allow('').required(),
  last_name: Joi.string().max(50).allow('').required(),
  confirm: Joi.boolean()
    .strict()
    .valid(true)
    .required()
    .messages({ 'any.only': 'You must confirm to register.' }),
}).unknown(true);

const loginSchema = Joi.object({
  email: Joi.string().trim().max(254).required(),
  password: Joi.string().max(128).required(),
});

export class AuthUseCase {
  private readonly deps: AuthUseCaseDeps;

  constructor(deps: AuthUseCaseDeps) {
    this.deps = deps;
  }

  async register(body: unknown): Promise<User> {
    const {
      email,
      password,
      confirm: _confirm,
      ...profileInput
    } = validateOrThrow<Record<string, unknown>>(registrationSchema, body);
    // Optional profile fields go through the same rules as a profile PATCH.
    const { changes } = this.deps.profileRules.validate(profileInput, { partial: true, withLoyalty: false });
    const result = await this.deps.users.create({
      email: email as string,
      password_hash: await hashPassword(password as string),
      first_name: '',
      last_name: '',
      email_allowed: false,
      sms_allowed: false,
      whatsapp_allowed: false,
      call_allowed: null,
      phone: null,
      date_of_birth: null,
      gender: null,
      language_code: this.deps.defaultLanguageCode,
      attributes: {},
      ...changes,
      // A number given at registration was never confirmed by a code.
      phone_verified: false,
      avatar: null,
      date_joined: new Date(),
    });
    if (result.outcome === 'email-taken') {
      throw fieldError('email', 'A user is already registered with this e-mail address.', 'email-taken');
    }
    return result.user;
  }

  /**
   * Every login issues a fresh session id, so an id planted before login is worthless after it.
   *
   * Attempts count per account (ABUSE_LIMITS.login_failures_per_account) before the password is
   * checked, and a success clears the count: so it counts failures since the last success, and
   * concurrent guesses cannot overrun it. An email nobody registered counts and answers exactly
   * like a known one, and its password is hashed all the same (against a dummy hash), so neither
   * the answers nor their timing tell whether an account exists. A locked account answers 429
   * without hashing, known or not: guesses at it cost no CPU.
   */
  async login(body: unknown): Promise<{ sessionId: string; session: Session }> {
    const { email, password } = validateOrThrow<{ email: string; password: string }>(loginSchema, body);
    const account = accountKey(email);
    const locked = await this.deps.throttler.hitAbuseLimit('login_failures_per_account', account);
    if (locked > 0) {
      this.deps.onLoginLocked?.();
      throw throttled(locked);
    }
    const user = await this.deps.users.findByEmail(email);
    const valid = await verifyPassword(password, user?.password_hash ?? (await dummyPasswordHash()));
    if (!user || !valid) {
      throw fieldError(
        'non_field_errors',
        'Unable to log in with provided credentials.',
        'invalid-credentials',
      );
    }
    await this.deps.throttler.clearAbuseLimit('login_failures_per_account', account);
    // The password is known only now: a hash made with weaker parameters is replaced while we have it.
    if (needsRehash(user.password_hash)) {
      await this.deps.users.replacePasswordHash(user.id, user.password_hash, await hashPassword(password));
    }
    const sessionId = newToken();
    const session: Session = { userId: user.id, csrfToken: newToken(), createdAt: new Date().toISOString() };
    await this.deps.sessions.save(sessionId, session);
    return { sessionId, session };
  }

  async logout(sessionId: string): Promise<void> {
    await this.deps.sessions.delete(sessionId);
  }

  async findSession(sessionId: string): Promise<Session | null> {
    return this.deps.sessions.find(sessionId);
  }
}
