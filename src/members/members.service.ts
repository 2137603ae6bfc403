import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { QueryFilter, Model } from 'mongoose';
import { Managers, OrganizationAccess, OrganizationRef } from '../access/organization-access.service';
import { AdminsService } from '../admins/admins.service';
import { Role } from '../admins/schemas/admin.schema';
import { actorOf, AuditService } from '../audit/audit.service';
import { AuditAction } from '../audit/schemas/audit-entry.schema';
import type { AuthenticatedAdmin } from '../auth/authenticated-admin';
import { RequestOrigin } from '../common/decorators/request-origin.decorator';
import { normalizeEmail } from '../common/email';
import { isDuplicateKeyError } from '../common/mongo-errors';
import { PasswordService } from '../passwords/password.service';
import { StateCache } from '../state-cache/state-cache.service';
import { tenantOf } from '../tenancy/organization-tenant';
import { Organization } from '../tenancy/schemas/organization.schema';
import { Tenant } from '../tenancy/tenant';
import { TenantConnectionService } from '../tenancy/tenant-connection.service';
import { CreateMemberDto } from './dto/create-member.dto';
import { ListMembersQueryDto } from './dto/member-query.dto';
import { MemberDto, MemberPageDto, RemovedMemberDto } from './dto/member.dto';
import { UpdateMemberDto } from './dto/update-member.dto';
import { Member, MemberEntity } from './schemas/member.schema';

export const MEMBER_NOT_FOUND = 'Member not found';
export const MEMBER_EXISTS = 'A member with this email already exists in this organization';
export const OWNER_STAYS =
  'The admin the organization was created with stays its admin, so it always has one: ' +
  'change its email or password with PUT /org/update';
const NOTHING_TO_UPDATE = 'Nothing to update: give email, password or role';
const MEMBER_CHANGED = 'The member changed meanwhile; read it again and retry';

/** The credentials a member's tokens depend on: a change of any of them revokes the tokens. */
type MemberChange = Partial<Pick<Member, 'email' | 'password_hash' | 'role'>>;
/** A member as answers show it: never its password hash. */
type MemberView = Pick<Member, '_id' | 'email' | 'role' | 'created_at' | 'updated_at'>;

const tokenStateKey = (tenant: Tenant, memberId: string) => `member:${tenant.id}:${memberId}`;

/**
 * An organization's members: the one owner of its `members` collection. The admin the organization
 * was created with (kept in the master database, as /admin/login needs) is listed as its first
 * admin; it cannot be removed or demoted, which is how an organization always keeps an admin.
 */
@Injectable()
export class MembersService {
  constructor(
    private readonly tenancy: TenantConnectionService,
    private readonly access: OrganizationAccess,
    private readonly admins: AdminsService,
    private readonly passwords: PasswordService,
    private readonly audit: AuditService,
    private readonly cache: StateCache,
  ) {}

  async list(ref: OrganizationRef, viewer: AuthenticatedAdmin, query: ListMembersQueryDto): Promise<MemberPageDto> {
    const organization = await this.access.manageable(ref, viewer, Managers.Admins);
    const members = await this.model(tenantOf(organization));
    const filter: QueryFilter<Member> = query.role ? { role: query.role } : {};
    const withOwner = query.role === undefined || query.role === Role.Admin;
    // The owner is the first item of the first page; members follow, oldest first.
    const start = (query.page - 1) * query.limit - (withOwner ? 1 : 0);
    const limit = query.limit - (start < 0 ? 1 : 0);
    const [owner, found, count] = await Promise.all([
      withOwner && start < 0 ? this.owner(organization) : null,
      // limit(0) would mean no limit at all.
      limit === 0
        ? []
        : members
            .find(filter, { password_hash: 0 })
            .sort({ created_at: 1, _id: 1 })
            .skip(Math.max(start, 0))
            .limit(limit)
            .lean()
            .exec(),
      members.countDocuments(filter).exec(),
    ]);
    const items = [...(owner ? [owner] : []), ...found.map((member) => toDto(member, organization))];
    return { items, page: query.page, limit: query.limit, total: count + (withOwner ? 1 : 0) };
  }

  async get(ref: OrganizationRef, viewer: AuthenticatedAdmin, memberId: string): Promise<MemberDto> {
    const organization = await this.access.manageable(ref, viewer, Managers.Admins);
    if (organization.admin_id.equals(memberId)) {
      return this.owner(organization);
    }
    return toDto(await this.existing(tenantOf(organization), memberId), organization);
  }

  async add(
    ref: OrganizationRef,
    viewer: AuthenticatedAdmin,
    dto: CreateMemberDto,
    origin: RequestOrigin,
  ): Promise<MemberDto> {
    const organization = await this.access.manageable(ref, viewer, Managers.Admins);
    await this.assertNotOwnerEmail(organization, dto.email);
    const tenant = tenantOf(organization);
    const members = await this.model(tenant);
    // The unique index decides races between two adds of one email, so it must exist first.
    await members.init();
    const created = await rethrowingDuplicateEmail(
      members.create({
        email: normalizeEmail(dto.email),
        password_hash: await this.passwords.hash(dto.password),
        role: dto.role ?? Role.Member,
      }),
    );
    const member = created.toObject();
    await this.audit.record(
      tenant,
      {
        action: AuditAction.MemberAdded,
        actor: actorOf(viewer),
        target: member._id.toString(),
        details: { role: member.role },
      },
      origin,
    );
    return toDto(member, organization);
  }

  async update(
    ref: OrganizationRef,
    viewer: AuthenticatedAdmin,
    memberId: string,
    dto: UpdateMemberDto,
    origin: RequestOrigin,
  ): Promise<MemberDto> {
    if (dto.email === undefined && dto.password === undefined && dto.role === undefined) {
      throw new BadRequestException(NOTHING_TO_UPDATE);
    }
    const organization = await this.access.manageable(ref, viewer, Managers.Admins);
    this.refuseOwner(organization, memberId);
    const tenant = tenantOf(organization);
    const member = await this.existing(tenant, memberId);
    const change: MemberChange = {
      ...(dto.email !== undefined && normalizeEmail(dto.email) !== member.email
        ? { email: normalizeEmail(dto.email) }
        : {}),
      ...(dto.role !== undefined && dto.role !== member.role ? { role: dto.role } : {}),
      ...(dto.password !== undefined && !(await this.passwords.verify(dto.password, member.password_hash))
        ? { password_hash: await this.passwords.hash(dto.password) }
        : {}),
    };
    if (change.email !== undefined) {
      await this.assertNotOwnerEmail(organization, change.email);
    }
    const updated = await this.apply(tenant, member, change);
    if (Object.keys(change).length > 0) {
      const details = { changed: Object.keys(change).map((field) => (field === 'password_hash' ? 'password' : field)) };
      await this.audit.record(
        tenant,
        { action: AuditAction.MemberChanged, actor: actorOf(viewer), target: memberId, details },
        origin,
      );
    }
    return toDto(updated, organization);
  }

  async remove(
    ref: OrganizationRef,
    viewer: AuthenticatedAdmin,
    memberId: string,
    origin: RequestOrigin,
  ): Promise<RemovedMemberDto> {
    const organization = await this.access.manageable(ref, viewer, Managers.Admins);
    this.refuseOwner(organization, memberId);
    const tenant = tenantOf(organization);
    const members = await this.model(tenant);
    const { deletedCount } = await this.changing(tenant, memberId, () => members.deleteOne({ _id: memberId }).exec());
    if (deletedCount === 0) {
      throw new NotFoundException(MEMBER_NOT_FOUND);
    }
    await this.audit.record(
      tenant,
      { action: AuditAction.MemberRemoved, actor: actorOf(viewer), target: memberId },
      origin,
    );
    return { member_id: memberId };
  }

  /** For login: the member of this email, with its password hash. */
  async findByEmail(tenant: Tenant, email: string): Promise<Member | null> {
    if (!everHadMembers(tenant)) {
      return null;
    }
    const members = await this.model(tenant);
    return members
      .findOne({ email: normalizeEmail(email) })
      .lean()
      .exec();
  }

  /**
   * For token checks: the member (null once removed), possibly as read up to TOKEN_STATE_TTL_MS ago
   * if another instance changed it since (see StateCache).
   */
  async findForToken(
    tenant: Tenant,
    memberId: string,
  ): Promise<Pick<Member, 'email' | 'role' | 'token_version'> | null> {
    if (!everHadMembers(tenant)) {
      return null;
    }
    return this.cache.read(tokenStateKey(tenant, memberId), async () => {
      const members = await this.model(tenant);
      return members.findById(memberId, { email: 1, role: 1, token_version: 1 }).lean().exec();
    });
  }

  /** The member's own password change; revokes its tokens (409 if another change came first). */
  async changePassword(tenant: Tenant, memberId: string, passwordHash: string): Promise<void> {
    await this.apply(tenant, await this.existing(tenant, memberId), { password_hash: passwordHash });
  }

  /** One conditional write, fenced by the token version it was decided on. */
  private async apply(tenant: Tenant, member: Member, change: MemberChange): Promise<MemberView> {
    if (Object.keys(change).length === 0) {
      return member;
    }
    const members = await this.model(tenant);
    const updated = await this.changing(tenant, member._id.toString(), () =>
      rethrowingDuplicateEmail(
        members
          .findOneAndUpdate(
            { _id: member._id, token_version: member.token_version },
            { $set: change, $inc: { token_version: 1 } },
            { returnDocument: 'after', projection: { password_hash: 0 } },
          )
          .lean()
          .exec(),
      ),
    );
    if (!updated) {
      throw new ConflictException(MEMBER_CHANGED);
    }
    return updated;
  }

  /**
   * A write to one member, then its cached copy dropped on every instance: also when the write
   * failed, for it may still have been applied.
   */
  private async changing<T>(tenant: Tenant, memberId: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      this.cache.invalidate(tokenStateKey(tenant, memberId));
    }
  }

  private async existing(tenant: Tenant, memberId: string): Promise<Member> {
    const members = await this.model(tenant);
    const member = await members.findById(memberId).lean().exec();
    if (!member) {
      throw new NotFoundException(MEMBER_NOT_FOUND);
    }
    return member;
  }

  private refuseOwner(organization: Organization, memberId: string): void {
    if (organization.admin_id.equals(memberId)) {
      throw new ConflictException(OWNER_STAYS);
    }
  }

  private async owner(organization: Organization): Promise<MemberDto> {
    const admin = await this.admins.findById(organization.admin_id);
    if (!admin) {
      throw new NotFoundException(MEMBER_NOT_FOUND);
    }
    return {
      member_id: admin._id.toString(),
      email: admin.email,
      role: Role.Admin,
      is_owner: true,
      organization_id: organization._id.toString(),
      created_at: admin.created_at,
      updated_at: admin.updated_at,
    };
  }

  /** For a change of the first admin's email: 409 when a member of its organization has it. */
  async assertEmailFree(tenant: Tenant, email: string): Promise<void> {
    if (await this.findByEmail(tenant, email)) {
      throw new ConflictException(MEMBER_EXISTS);
    }
  }

  private async assertNotOwnerEmail(organization: Organization, email: string): Promise<void> {
    const owner = await this.admins.findById(organization.admin_id);
    if (owner?.email === normalizeEmail(email)) {
      throw new ConflictException(MEMBER_EXISTS);
    }
  }

  private model(tenant: Tenant): Promise<Model<Member>> {
    return this.tenancy.model(tenant, MemberEntity);
  }
}

/**
 * Whether a member was ever added (which records the entity on the organization). Until then there
 * is none to find, and the look-ups of a login, a token check or an email check must not record it
 * themselves: that would change the organization's record for a request that is refused.
 */
function everHadMembers(tenant: Tenant): boolean {
  return tenant.entities.includes(MemberEntity.name as string);
}

function toDto(member: MemberView, organization: Organization): MemberDto {
  return {
    member_id: member._id.toString(),
    email: member.email,
    role: member.role,
    is_owner: false,
    organization_id: organization._id.toString(),
    created_at: member.created_at,
    updated_at: member.updated_at,
  };
}

async function rethrowingDuplicateEmail<T>(operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    throw isDuplicateKeyError(error) ? new ConflictException(MEMBER_EXISTS) : error;
  }
}
