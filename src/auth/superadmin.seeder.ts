import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Environment } from '../config/environment';
import { AdminsService } from './admins.service';
import { PasswordService } from './password.service';
import { AdminRole } from './schemas/admin.schema';

/** Keeps the superadmin of SUPERADMIN_EMAIL / SUPERADMIN_PASSWORD in the database at every start. */
@Injectable()
export class SuperadminSeeder implements OnApplicationBootstrap {
  private readonly logger = new Logger(SuperadminSeeder.name);

  constructor(
    private readonly config: ConfigService<Environment, true>,
    private readonly admins: AdminsService,
    private readonly passwords: PasswordService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const email = this.config.get('SUPERADMIN_EMAIL', { infer: true });
    const password = this.config.get('SUPERADMIN_PASSWORD', { infer: true });
    if (!email || !password) {
      return;
    }
    const existing = await this.admins.findByEmail(email);
    if (existing && existing.role !== AdminRole.Superadmin) {
      throw new Error(`SUPERADMIN_EMAIL ${email} already belongs to an organization admin; choose another address`);
    }
    if (existing && (await this.passwords.verify(password, existing.password_hash))) {
      return;
    }
    await this.admins.upsertSuperadmin(email, await this.passwords.hash(password));
    this.logger.log(`Superadmin ${email} ${existing ? 'password updated' : 'created'}`);
  }
}
