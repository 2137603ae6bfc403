import { BadRequestException, ForbiddenException, Injectable, NotFoundException } from '@nestjs/common';
import { AdminsService, CredentialChange } from '../auth/admins.service';
import { AuthenticatedAdmin } from '../auth/authenticated-admin';
import { PasswordService } from '../auth/password.service';
import { AdminRole } from '../auth/schemas/admin.schema';
import { normalizeEmail } from '../common/email';
import { tenantOf } from '../tenancy/organization-tenant';
import { Organization } from '../tenancy/schemas/organization.schema';
import { tenantBusy, TENANT_NOT_FOUND, TenantState } from '../tenancy/tenant';
import { TenantConnectionService } from '../tenancy/tenant-connection.service';
import { TenantRegistry } from '../tenancy/tenant-registry.service';
import { CreateOrganizationDto } from './dto/create-organization.dto';
import { ListOrganizationsQueryDto } from './dto/list-organizations-query.dto';
import { DeletedOrganizationDto, OrganizationDto, OrganizationPageDto } from './dto/organization.dto';
import { UpdateOrganizationDto } from './dto/update-organization.dto';
import { toSlug } from './organization-name';
import { OrganizationLifecycleService } from './organization-lifecycle.service';

export const NOT_YOURS = 'You may only manage your own organization';

@Injectable()
export class OrganizationsService {
  constructor(
    private readonly registry: TenantRegistry,
    private readonly lifecycle: OrganizationLifecycleService,
    private readonly admins: AdminsService,
    private readonly passwords: PasswordService,
    private readonly tenancy: TenantConnectionService,
  ) {}

  async create(dto: CreateOrganizationDto): Promise<OrganizationDto> {
    const slug = toSlug(dto.organization_name);
    // A cheap read spares the bcrypt hash for a name that is plainly taken; the unique index still decides races.
    await this.registry.assertSlugFree(slug);
    const organization = await this.lifecycle.create({
      name: dto.organization_name,
      slug,
      email: dto.email,
      passwordHash: await this.passwords.hash(dto.password),
    });
    return this.toDto(organization, dto.email);
  }

  async get(name: string, viewer: AuthenticatedAdmin | undefined): Promise<OrganizationDto> {
    const organization = await this.findByName(name);
    return this.toDto(organization, await this.adminEmailFor(organization, viewer));
  }

  /** Every organization, for a superadmin (the route's access rule). */
  async list(query: ListOrganizationsQueryDto): Promise<OrganizationPageDto> {
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

  async update(dto: UpdateOrganizationDto, viewer: AuthenticatedAdmin): Promise<OrganizationDto> {
    const current = await this.findManageable(this.targetName(dto), viewer);
    const newName = dto.new_organization_name;
    if (newName === undefined && dto.email === undefined && dto.password === undefined) {
      throw new BadRequestException('Nothing to update: give new_organization_name, email or password');
    }
    await this.refuseKnownConflicts(current, dto);
    const updated = await this.lifecycle.update(current, {
      rename: newName === undefined ? undefined : { name: newName, slug: toSlug(newName) },
      credentials: await this.credentialChange(current, dto),
    });
    return this.toDto(updated, await this.adminEmailFor(updated, viewer, true));
  }

  async delete(name: string, viewer: AuthenticatedAdmin): Promise<DeletedOrganizationDto> {
    const organization = await this.findManageable(name, viewer);
    await this.lifecycle.delete(organization);
    return {
      organization_name: organization.organization_name,
      deleted_collection: tenantOf(organization).storageName,
    };
  }

  private targetName(dto: UpdateOrganizationDto): string {
    if (dto.organization_name !== undefined && dto.old_organization_name !== undefined) {
      throw new BadRequestException('Give either organization_name or old_organization_name, not both');
    }
    return (dto.organization_name ?? dto.old_organization_name) as string;
  }

  /**
   * Only the credentials that differ from the stored ones: sending the current email (in any case
   * or spacing) or the current password is no change, and so revokes no token. The password is
   * compared with the stored hash first, and hashed only when it is a new one.
   */
  private async credentialChange(
    current: Organization,
    dto: UpdateOrganizationDto,
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
  private async refuseKnownConflicts(current: Organization, dto: UpdateOrganizationDto): Promise<void> {
    const newSlug = dto.new_organization_name === undefined ? undefined : toSlug(dto.new_organization_name);
    if (newSlug !== undefined && newSlug !== current.slug) {
      await this.registry.assertSlugFree(newSlug);
    }
    if (dto.email !== undefined) {
      await this.admins.assertEmailFree(dto.email, current.admin_id);
    }
  }

  private async findByName(name: string): Promise<Organization> {
    const organization = await this.registry.findVisibleBySlug(toSlug(name));
    if (!organization) {
      throw new NotFoundException(TENANT_NOT_FOUND);
    }
    return organization;
  }

  private async findManageable(name: string, viewer: AuthenticatedAdmin): Promise<Organization> {
    const organization = await this.findByName(name);
    if (!this.canManage(organization, viewer)) {
      throw new ForbiddenException(NOT_YOURS);
    }
    if (organization.state !== TenantState.Active) {
      throw tenantBusy();
    }
    return organization;
  }

  private canManage(organization: Organization, viewer: AuthenticatedAdmin | undefined): boolean {
    return (
      viewer !== undefined &&
      (viewer.role === AdminRole.Superadmin || viewer.organization?.id === organization._id.toString())
    );
  }

  private async adminEmailFor(
    organization: Organization,
    viewer: AuthenticatedAdmin | undefined,
    fresh = false,
  ): Promise<string | undefined> {
    if (!this.canManage(organization, viewer)) {
      return undefined;
    }
    if (!fresh && viewer?.organization?.id === organization._id.toString()) {
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
