import {
  applyDecorators,
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  NotFoundException,
  Param,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { OrganizationIdParamDto, OrganizationScopeQueryDto } from '../access/dto/organization-scope.dto';
import { namedOrOwn } from '../access/organization-access.service';
import type { AuthenticatedAdmin } from '../auth/authenticated-admin';
import { Auth, ORGANIZATION_ADMINS } from '../auth/decorators/auth.decorator';
import { CurrentAdmin } from '../auth/decorators/current-admin.decorator';
import { ApiProblems } from '../common/decorators/api-problems.decorator';
import { Origin, type RequestOrigin } from '../common/decorators/request-origin.decorator';
import { envelope } from '../common/envelope';
import { CreateLimited } from '../throttling/create-throttler.guard';
import { CreateMemberDto } from './dto/create-member.dto';
import {
  ListMembersQueryDto,
  MemberIdParamDto,
  OrganizationMemberParamsDto,
  ScopedListMembersQueryDto,
} from './dto/member-query.dto';
import { MemberEnvelopeDto, MemberPageEnvelopeDto, RemovedMemberEnvelopeDto } from './dto/member.dto';
import { UpdateMemberDto } from './dto/update-member.dto';
import { MEMBER_EXISTS, MEMBER_NOT_FOUND, MembersService, OWNER_STAYS } from './members.service';

const NOT_FOUND = new NotFoundException(MEMBER_NOT_FOUND);
const OWNER_CONFLICT = new ConflictException(OWNER_STAYS);

const LISTED = 'Members retrieved successfully';
const RETRIEVED = 'Member retrieved successfully';
const ADDED = 'Member added successfully';
const UPDATED = 'Member updated successfully';
const REMOVED = 'Member removed successfully';

/** What each operation is, at either address: its route, its limits and its documentation. */
const ListRoute = () =>
  applyDecorators(
    Get(),
    ApiOperation({ summary: "List an organization's members, its first admin first" }),
    ApiOkResponse({ type: MemberPageEnvelopeDto }),
    ApiProblems(400, 404, 409),
  );
const AddRoute = () =>
  applyDecorators(
    ApiProblems(400, 404, new ConflictException(MEMBER_EXISTS), 413, 415),
    Post(),
    CreateLimited('members'),
    ApiOperation({ summary: 'Add a member (role `member` or `admin`) to an organization' }),
    ApiCreatedResponse({ type: MemberEnvelopeDto }),
  );
const GetRoute = () =>
  applyDecorators(
    Get(':member_id'),
    ApiOperation({ summary: 'Read a member' }),
    ApiOkResponse({ type: MemberEnvelopeDto }),
    ApiProblems(400, NOT_FOUND, 409),
  );
const UpdateRoute = () =>
  applyDecorators(
    Patch(':member_id'),
    ApiOperation({
      summary: "Change a member's email, password or role",
      description: "What differs from the stored member changes and revokes the member's tokens.",
    }),
    ApiOkResponse({ type: MemberEnvelopeDto }),
    ApiProblems(400, NOT_FOUND, OWNER_CONFLICT, 413, 415),
  );
const RemoveRoute = () =>
  applyDecorators(
    Delete(':member_id'),
    ApiOperation({ summary: 'Remove a member; its tokens stop working at once' }),
    ApiOkResponse({ type: RemovedMemberEnvelopeDto }),
    ApiProblems(400, NOT_FOUND, OWNER_CONFLICT),
  );

// The same five operations at two addresses: `/org/members` (the organization of the token, or
// `?organization_name=`) and `/api/v1/organizations/{organization_id}/members`. MembersService
// decides access for both.

@ApiTags('Members')
@Auth(ORGANIZATION_ADMINS)
@Controller('org/members')
export class MembersController {
  constructor(private readonly members: MembersService) {}

  @ListRoute()
  async list(
    @Query() query: ScopedListMembersQueryDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin,
  ): Promise<MemberPageEnvelopeDto> {
    return envelope(LISTED, await this.members.list(namedOrOwn(query.organization_name, viewer), viewer, query));
  }

  @AddRoute()
  async add(
    @Query() query: OrganizationScopeQueryDto,
    @Body() body: CreateMemberDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin,
    @Origin() origin: RequestOrigin,
  ): Promise<MemberEnvelopeDto> {
    return envelope(ADDED, await this.members.add(namedOrOwn(query.organization_name, viewer), viewer, body, origin));
  }

  @GetRoute()
  async get(
    @Param() params: MemberIdParamDto,
    @Query() query: OrganizationScopeQueryDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin,
  ): Promise<MemberEnvelopeDto> {
    return envelope(
      RETRIEVED,
      await this.members.get(namedOrOwn(query.organization_name, viewer), viewer, params.member_id),
    );
  }

  @UpdateRoute()
  async update(
    @Param() params: MemberIdParamDto,
    @Query() query: OrganizationScopeQueryDto,
    @Body() body: UpdateMemberDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin,
    @Origin() origin: RequestOrigin,
  ): Promise<MemberEnvelopeDto> {
    return envelope(
      UPDATED,
      await this.members.update(namedOrOwn(query.organization_name, viewer), viewer, params.member_id, body, origin),
    );
  }

  @RemoveRoute()
  async remove(
    @Param() params: MemberIdParamDto,
    @Query() query: OrganizationScopeQueryDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin,
    @Origin() origin: RequestOrigin,
  ): Promise<RemovedMemberEnvelopeDto> {
    return envelope(
      REMOVED,
      await this.members.remove(namedOrOwn(query.organization_name, viewer), viewer, params.member_id, origin),
    );
  }
}

@ApiTags('Members')
@Auth(ORGANIZATION_ADMINS)
@Controller({ path: 'organizations/:organization_id/members', version: '1' })
export class MembersV1Controller {
  constructor(private readonly members: MembersService) {}

  @ListRoute()
  async list(
    @Param() params: OrganizationIdParamDto,
    @Query() query: ListMembersQueryDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin,
  ): Promise<MemberPageEnvelopeDto> {
    return envelope(LISTED, await this.members.list({ id: params.organization_id }, viewer, query));
  }

  @AddRoute()
  async add(
    @Param() params: OrganizationIdParamDto,
    @Body() body: CreateMemberDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin,
    @Origin() origin: RequestOrigin,
  ): Promise<MemberEnvelopeDto> {
    return envelope(ADDED, await this.members.add({ id: params.organization_id }, viewer, body, origin));
  }

  @GetRoute()
  async get(
    @Param() params: OrganizationMemberParamsDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin,
  ): Promise<MemberEnvelopeDto> {
    return envelope(RETRIEVED, await this.members.get({ id: params.organization_id }, viewer, params.member_id));
  }

  @UpdateRoute()
  async update(
    @Param() params: OrganizationMemberParamsDto,
    @Body() body: UpdateMemberDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin,
    @Origin() origin: RequestOrigin,
  ): Promise<MemberEnvelopeDto> {
    return envelope(
      UPDATED,
      await this.members.update({ id: params.organization_id }, viewer, params.member_id, body, origin),
    );
  }

  @RemoveRoute()
  async remove(
    @Param() params: OrganizationMemberParamsDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin,
    @Origin() origin: RequestOrigin,
  ): Promise<RemovedMemberEnvelopeDto> {
    return envelope(
      REMOVED,
      await this.members.remove({ id: params.organization_id }, viewer, params.member_id, origin),
    );
  }
}
