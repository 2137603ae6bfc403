import { ConfigService } from '@nestjs/config';
import bcrypt from 'bcrypt';
import { Environment } from '../config/environment';
import { PasswordService } from './password.service';

async function passwordService(concurrency = 2): Promise<PasswordService> {
  const settings: Partial<Environment> = { BCRYPT_COST: 10, BCRYPT_CONCURRENCY: concurrency };
  const config = { get: (key: keyof Environment) => settings[key] };
  const service = new PasswordService(config as unknown as ConfigService<Environment, true>);
  await service.onModuleInit();
  return service;
}

describe('PasswordService', () => {
  let service: PasswordService;

  beforeAll(async () => {
    service = await passwordService();
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('hashes with the configured cost, and verifies the same password', async () => {
    const hash = await service.hash('SecurePassword123!');
    expect(hash).toMatch(/^\$2[aby]\$10\$/);
    expect(hash).not.toContain('SecurePassword123!');
    expect(await service.verify('SecurePassword123!', hash)).toBe(true);
  });

  it('refuses a wrong password', async () => {
    const hash = await service.hash('SecurePassword123!');
    expect(await service.verify('SecurePassword123?', hash)).toBe(false);
    expect(await service.verify('', hash)).toBe(false);
  });

  it('refuses any password when there is no hash, after a full comparison against a dummy hash', async () => {
    const compare = jest.spyOn(bcrypt, 'compare');
    expect(await service.verify('SecurePassword123!', undefined)).toBe(false);
    expect(compare).toHaveBeenCalledTimes(1);
    expect(compare.mock.calls[0][1]).toMatch(/^\$2[aby]\$10\$.{53}$/);
  });

  it('refuses a password over 72 bytes even though bcrypt matches its first 72 bytes', async () => {
    const first72 = 'p'.repeat(72);
    const hash = await service.hash(first72);
    expect(await bcrypt.compare(`${first72}-and-more`, hash)).toBe(true);
    expect(await service.verify(first72, hash)).toBe(true);
    expect(await service.verify(`${first72}-and-more`, hash)).toBe(false);
  });

  it('runs at most BCRYPT_CONCURRENCY hashes and comparisons at once, each in its turn', async () => {
    const limited = await passwordService(2);
    let inFlight = 0;
    let most = 0;
    const order: number[] = [];
    jest.spyOn(bcrypt, 'compare').mockImplementation(async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 10));
      inFlight -= 1;
      return true;
    });
    await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        limited.verify('SecurePassword123!', 'hash').then(() => order.push(index)),
      ),
    );
    expect(most).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
