import { randomUUID } from 'node:crypto';
import { ApiClient, expectStatus } from './api-client.ts';

export const PASSWORD = 'correct horse battery staple';

export interface SignedUp {
  /** Holds the session cookie and CSRF token the login set: ready for the user's own calls. */
  client: ApiClient;
  id: number;
  email: string;
}

/**
 * A new user on a running stack, signed up as a browser does it: registration, login, then a read of
 * the profile for the id. Public API only, so it serves any stack a test reaches by URL (the compose
 * stack, HAProxy in front of the HA replicas). `label` starts the email, which a random tail keeps
 * unique across runs sharing a database.
 */
export async function signUp(apiUrl: string, label: string): Promise<SignedUp> {
  const client = new ApiClient(apiUrl);
  const email = `${label}.${randomUUID().slice(0, 8)}@example.com`;
  const registration = await client.post('/users/registration/', {
    email,
    password: PASSWORD,
    first_name: 'Ada',
    last_name: 'Lovelace',
    confirm: true,
  });
  expectStatus(registration, 201, `registering ${email}`);
  const login = await client.post('/users/login/', { email, password: PASSWORD });
  expectStatus(login, 200, `logging in ${email}`);
  const profile = await client.get('/users/profile/');
  expectStatus(profile, 200, `reading the profile of ${email}`);
  return { client, id: profile.body.id as number, email };
}
