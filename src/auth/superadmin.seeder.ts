import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Environment } from '../config/environment';
import { AdminsService } from '../admins/admins.service';
import { PasswordService } from '../passwords/password.service';
import { Role } from '../admins/schemas/admin.schema';

/**
 * Makes the superadmins exactly the one SUPERADMIN_EMAIL / SUPERADMIN_PASSWORD name, at every start:
 * any other superadmin goes (its tokens with it), and none is left when the variables are unset. An
 * address that already belongs to an organization admin is refused with a log line, without stopping
 * the start: anyone may register an organization under any address.
 */
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
    const named = email && password ? email : undefined;
    const removed = await this.admins.removeSuperadminsExcept(named);
    if (removed > 0) {
      this.logger.warn(`Removed ${removed} superadmin(s) that SUPERADMIN_EMAIL no longer names`);
    }
    if (!named || !password) {
      return;
    }
    const existing = await this.admins.findByEmail(named);
    if (existing && existing.role !== Role.Superadmin) {
      this.logger.error(
        `SUPERADMIN_EMAIL ${named} already belongs to an organization admin: there is no superadmin until it names another address`,
      );
      return;
    }
    if (existing && (await this.passwords.verify(password, existing.password_hash))) {
      return;
    }
    await this.admins.upsertSuperadmin(named, await this.passwords.hash(password));
    this.logger.log(`Superadmin ${named} ${existing ? 'password updated' : 'created'}`);
  }
}
