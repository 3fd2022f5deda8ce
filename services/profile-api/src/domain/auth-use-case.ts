import { randomBytes } from 'node:crypto';
import Joi from 'joi';
import { fieldError } from './errors.ts';
import { dummyPasswordHash, hashPassword, needsRehash, verifyPassword } from './password.ts';
import type { Session, Sessions, Users } from './ports.ts';
import type { ProfileRules } from './profile-schema.ts';
import type { User } from './user.ts';
import { validateOrThrow } from './validation-errors.ts';

export interface AuthUseCaseDeps {
  users: Users;
  sessions: Sessions;
  profileRules: ProfileRules;
  defaultLanguageCode: string;
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
      avatar: null,
      date_joined: new Date(),
    });
    if (result.outcome === 'email-taken') {
      throw fieldError('email', 'A user is already registered with this e-mail address.', 'email-taken');
    }
    return result.user;
  }

  /** Every login issues a fresh session id, so an id planted before login is worthless after it. */
  async login(body: unknown): Promise<{ sessionId: string; session: Session }> {
    const { email, password } = validateOrThrow<{ email: string; password: string }>(loginSchema, body);
    const user = await this.deps.users.findByEmail(email);
    const valid = await verifyPassword(password, user?.password_hash ?? (await dummyPasswordHash()));
    if (!user || !valid) {
      throw fieldError(
        'non_field_errors',
        'Unable to log in with provided credentials.',
        'invalid-credentials',
      );
    }
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
