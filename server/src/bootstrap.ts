import { randomBytes } from 'node:crypto';
import type { App } from './app.ts';
import { hashPassword } from './auth/index.ts';
import type { AppConfig } from './config/schema.ts';
import type { SecretBox } from './crypto/secret-box.ts';
import { seedDemo } from './demo/seed.ts';
import type { Logger } from './http/logger.ts';

/**
 * First start of an empty database: the demo profile seeds the demo county;
 * otherwise a root org unit and an `admin` account are created, with the
 * password from CCC_ADMIN_PASSWORD or a random one printed once.
 */
export async function bootstrap(
  app: App,
  config: AppConfig,
  secrets: SecretBox,
  log: Logger,
): Promise<'demo' | 'admin' | 'none'> {
  // Two instances starting at once on an empty database: one sets it up, the other waits and finds it done.
  return app.store.transaction(async () => {
    await app.store.lock('bootstrap');
    await app.repos.orgs.load();
    return firstStart(app, config, secrets, log);
  });
}

async function firstStart(
  app: App,
  config: AppConfig,
  secrets: SecretBox,
  log: Logger,
): Promise<'demo' | 'admin' | 'none'> {
  const { orgs, cameras, users } = app.repos;
  if (config.demo.enabled) {
    const seeded = await seedDemo(
      { orgs, cameras, users, secrets },
      {
        seed: config.demo.seed,
        townships: config.demo.townships,
        villagesPerTownship: config.demo.villagesPerTownship,
        cameras: config.demo.cameras,
        center: config.map.center,
      },
    );
    return seeded ? 'demo' : 'none';
  }
  if (orgs.all().length > 0 || (await users.count()) > 0) return 'none';
  const root = await orgs.insert({ parentId: null, code: '000000000000', name: '本县', level: 'county' });
  const given = process.env.CCC_ADMIN_PASSWORD;
  const password = given && given.length >= 8 ? given : randomBytes(12).toString('base64url');
  await users.insert({
    username: 'admin',
    displayName: 'Administrator',
    passwordHash: await hashPassword(password),
    role: 'admin',
    orgUnitId: root.id,
  });
  if (!given) process.stdout.write(`\n  First start: created user "admin" with password ${password} — change it.\n`);
  log.info('bootstrapped empty database', { rootOrg: root.id });
  return 'admin';
}
