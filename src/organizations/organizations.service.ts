import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { Managers, mayManage, OrganizationAccess, OrganizationRef } from '../access/organization-access.service';
import { actorOf, AuditService } from '../audit/audit.service';
import { AuditAction } from '../audit/schemas/audit-entry.schema';
import { Role } from '../admins/schemas/admin.schema';
import { RequestOrigin } from '../common/decorators/request-origin.decorator';
import { AdminsService, CredentialChange } from '../admins/admins.service';
import { AuthenticatedAdmin } from '../auth/authenticated-admin';
import { MembersService } from '../members/members.service';
import { PasswordService } from '../passwords/password.service';
import { normalizeEmail } from '../common/email';
import { tenantOf } from '../tenancy/organization-tenant';
import { Organization } from '../tenancy/schemas/organization.schema';
import { TENANT_NOT_FOUND } from '../tenancy/tenant';
import { TenantConnectionService } from '../tenancy/tenant-connection.service';
import { TenantRegistry } from '../tenancy/tenant-registry.service';
import { CreateOrganizationDto } from './dto/create-organization.dto';
import { PageQueryDto } from '../common/dto/page-query.dto';
import { DeletedOrganizationDto, OrganizationDto, OrganizationPageDto } from './dto/organization.dto';
import { toSlug } from './organization-name';
import { OrganizationLifecycleService } from './organization-lifecycle.service';

const NOTHING_TO_UPDATE = 'Nothing to update: give a new name, email or password';

/** What an update asks for, whichever path it came by. */
export interface OrganizationChangeRequest {
  newName?: string;
  email?: string;
  password?: string;
}

@Injectable()
export class OrganizationsService {
  constructor(
    private readonly registry: TenantRegistry,
    private readonly lifecycle: OrganizationLifecycleService,
    private readonly admins: AdminsService,
    private readonly passwords: PasswordService,
    private readonly tenancy: TenantConnectionService,
    private readonly access: OrganizationAccess,
    private readonly audit: AuditService,
    private readonly members: MembersService,
  ) {}

  async create(dto: CreateOrganizationDto, origin: RequestOrigin): Promise<OrganizationDto> {
    const slug = toSlug(dto.organization_name);
    // A cheap read spares the bcrypt hash for a name that is plainly taken; the unique index still decides races.
    await this.registry.assertSlugFree(slug);
    const organization = await this.lifecycle.create({
      name: dto.organization_name,
      slug,
      email: dto.email,
      passwordHash: await this.passwords.hash(dto.password),
    });
    const admin = organization.admin_id.toString();
    await this.audit.record(
      tenantOf(organization),
      {
        action: AuditAction.OrganizationCreated,
        actor: { id: admin, role: Role.Admin },
        target: organization._id.toString(),
      },
      origin,
    );
    return this.toDto(organization, dto.email);
  }

  async get(ref: OrganizationRef, viewer: AuthenticatedAdmin | undefined): Promise<OrganizationDto> {
    const organization = await this.access.find(ref);
    return this.toDto(organization, await this.adminEmailFor(organization, viewer));
  }

  /** Every organization, for a superadmin (the route's access rule). */
  async list(query: PageQueryDto): Promise<OrganizationPageDto> {
    const { items: organizations, total } = await this.registry.listVisible(
      (query.page - 1) * query.limit,
      query.limit,
    );
    const emails = await this.admins.emailsById(organizations.map((organization) => organization.admin_id));
    const items = organizations.map((organization) =>
      this.toDto(organization, emails.get(organization.admin_id.toString())),
    );
    return { items, page: query.page, limit: query.limit, total };
  }

  async update(
    ref: OrganizationRef,
    dto: OrganizationChangeRequest,
    viewer: AuthenticatedAdmin,
    origin: RequestOrigin,
  ): Promise<OrganizationDto> {
    const current = await this.access.manageable(ref, viewer, Managers.Owner);
    const newName = dto.newName;
    if (newName === undefined && dto.email === undefined && dto.password === undefined) {
      throw new BadRequestException(NOTHING_TO_UPDATE);
    }
    await this.refuseKnownConflicts(current, dto);
    const credentials = await this.credentialChange(current, dto);
    const updated = await this.lifecycle.update(current, {
      rename: newName === undefined ? undefined : { name: newName, slug: toSlug(newName) },
      credentials,
    });
    await this.recordUpdate(current, updated, credentials, viewer, origin);
    return this.toDto(updated, await this.adminEmailFor(updated, viewer, true));
  }

  async delete(ref: OrganizationRef, viewer: AuthenticatedAdmin): Promise<DeletedOrganizationDto> {
    const organization = await this.access.manageable(ref, viewer, Managers.Owner);
    await this.lifecycle.delete(organization);
    return {
      organization_name: organization.organization_name,
      deleted_collection: tenantOf(organization).storageName,
    };
  }

  /** The trail moves with a rename, so both entries land in the organization's storage as it is now. */
  private async recordUpdate(
    before: Organization,
    after: Organization,
    credentials: CredentialChange | undefined,
    viewer: AuthenticatedAdmin,
    origin: RequestOrigin,
  ): Promise<void> {
    const tenant = tenantOf(after);
    const target = after._id.toString();
    if (before.organization_name !== after.organization_name) {
      const details = { from: before.organization_name, to: after.organization_name };
      await this.audit.record(
        tenant,
        { action: AuditAction.OrganizationRenamed, actor: actorOf(viewer), target, details },
        origin,
      );
    }
    const changed = [
      ...(credentials?.email !== undefined ? ['email'] : []),
      ...(credentials?.passwordHash !== undefined ? ['password'] : []),
    ];
    if (changed.length > 0) {
      await this.audit.record(
        tenant,
        { action: AuditAction.CredentialsChanged, actor: actorOf(viewer), target, details: { changed } },
        origin,
      );
    }
  }

  /**
   * Only the credentials that differ from the stored ones: sending the current email (in any case
   * or spacing) or the current password is no change, and so revokes no token. The password is
   * compared with the stored hash first, and hashed only when it is a new one.
   */
  private async credentialChange(
    current: Organization,
    dto: OrganizationChangeRequest,
  ): Promise<CredentialChange | undefined> {
    if (dto.email === undefined && dto.password === undefined) {
      return undefined;
    }
    const admin = await this.admins.findById(current.admin_id);
    if (!admin) {
      throw new NotFoundException(TENANT_NOT_FOUND);
    }
    const email =
      dto.email !== undefined && normalizeEmail(dto.email) !== normalizeEmail(admin.email) ? dto.email : undefined;
    const passwordChanged =
      dto.password !== undefined && !(await this.passwords.verify(dto.password, admin.password_hash));
    const passwordHash = passwordChanged ? await this.passwords.hash(dto.password as string) : undefined;
    return { email, passwordHash, tokenVersion: admin.token_version };
  }

  /** Checked before anything changes, so that a plain conflict never leaves a half-applied update. */
  private async refuseKnownConflicts(current: Organization, dto: OrganizationChangeRequest): Promise<void> {
    const newSlug = dto.newName === undefined ? undefined : toSlug(dto.newName);
    if (newSlug !== undefined && newSlug !== current.slug) {
      await this.registry.assertSlugFree(newSlug);
    }
    if (dto.email !== undefined) {
      await Promise.all([
        this.admins.assertEmailFree(dto.email, current.admin_id),
        this.members.assertEmailFree(tenantOf(current), dto.email),
      ]);
    }
  }

  private async adminEmailFor(
    organization: Organization,
    viewer: AuthenticatedAdmin | undefined,
    fresh = false,
  ): Promise<string | undefined> {
    if (!mayManage(organization, viewer, Managers.Admins)) {
      return undefined;
    }
    if (!fresh && !viewer?.member && viewer?.organization?.id === organization._id.toString()) {
      return viewer.email;
    }
    return (await this.admins.findById(organization.admin_id))?.email;
  }

  private toDto(organization: Organization, adminEmail: string | undefined): OrganizationDto {
    const { storageName } = tenantOf(organization);
    return {
      organization_id: organization._id.toString(),
      organization_name: organization.organization_name,
      slug: organization.slug,
      collection_name: storageName,
      storage: { mode: this.tenancy.mode, name: storageName },
      admin_id: organization.admin_id.toString(),
      ...(adminEmail === undefined ? {} : { admin_email: adminEmail }),
      is_active: organization.is_active,
      created_at: organization.created_at,
      updated_at: organization.updated_at,
    };
  }
}
