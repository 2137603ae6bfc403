import { BadRequestException, Body, Controller, Delete, Get, Post, Put, Query } from '@nestjs/common';
import { ApiBody, ApiTags, LinkObject } from '@nestjs/swagger';
import type { AuthenticatedAdmin } from '../auth/authenticated-admin';
import { CurrentAdmin } from '../auth/decorators/current-admin.decorator';
import { Origin, type RequestOrigin } from '../common/decorators/request-origin.decorator';
import { PageQueryDto } from '../common/dto/page-query.dto';
import { envelope } from '../common/envelope';
import { validationFailed } from '../common/validation';
import { CreateOrganizationDto } from './dto/create-organization.dto';
import { DeleteOrganizationDto } from './dto/delete-organization.dto';
import {
  DeletedOrganizationEnvelopeDto,
  OrganizationEnvelopeDto,
  OrganizationPageEnvelopeDto,
} from './dto/organization.dto';
import { OrganizationNameQueryDto } from './dto/organization-name-query.dto';
import { UPDATE_ORGANIZATION_EXAMPLES, UpdateOrganizationDto } from './dto/update-organization.dto';
import { toSlug } from './organization-name';
import {
  CREATED,
  CreateOrganizationRoute,
  DELETED,
  DeleteOrganizationRoute,
  GetOrganizationRoute,
  LISTED,
  ListOrganizationsRoute,
  RETRIEVED,
  UPDATED,
  UpdateOrganizationRoute,
} from './organization-routes';
import { OrganizationsService } from './organizations.service';

/** The organization an answer names, and where it can be read, changed and deleted next. */
const NAMED = '$response.body#/data/organization_name';
/** Schemathesis's link extension: its stateful phase sends the link's body as it is, adding no field. */
const SENT_AS_IS = { 'x-schemathesis': { merge_body: false } };
const GET_IT: LinkObject = { operationId: 'OrganizationsController_get', parameters: { organization_name: NAMED } };
const ORGANIZATION_LINKS: Record<string, LinkObject> = {
  GetOrganization: GET_IT,
  // Its own admin email again: a valid body that changes nothing and so revokes no token. As it is:
  // a generated field added to it could name the organization a second time.
  UpdateOrganization: {
    operationId: 'OrganizationsController_update',
    requestBody: { organization_name: NAMED, email: '$response.body#/data/admin_email' },
    ...SENT_AS_IS,
  },
  // The name in the query and the body alike, so that they agree.
  DeleteOrganization: {
    operationId: 'OrganizationsController_delete',
    parameters: { organization_name: NAMED },
    requestBody: { organization_name: NAMED },
  },
};

@ApiTags('Organizations')
@Controller('org')
export class OrganizationsController {
  constructor(private readonly organizations: OrganizationsService) {}

  @Post('create')
  @CreateOrganizationRoute(ORGANIZATION_LINKS)
  async create(@Body() body: CreateOrganizationDto, @Origin() origin: RequestOrigin): Promise<OrganizationEnvelopeDto> {
    return envelope(CREATED, await this.organizations.create(body, origin));
  }

  @Get('get')
  @GetOrganizationRoute()
  async get(
    @Query() query: OrganizationNameQueryDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin | undefined,
  ): Promise<OrganizationEnvelopeDto> {
    return envelope(RETRIEVED, await this.organizations.get({ name: query.organization_name }, viewer));
  }

  @Get('list')
  @ListOrganizationsRoute()
  async list(@Query() query: PageQueryDto): Promise<OrganizationPageEnvelopeDto> {
    return envelope(LISTED, await this.organizations.list(query));
  }

  @Put('update')
  @UpdateOrganizationRoute(ORGANIZATION_LINKS)
  @ApiBody({ type: UpdateOrganizationDto, examples: UPDATE_ORGANIZATION_EXAMPLES })
  async update(
    @Body() body: UpdateOrganizationDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin,
    @Origin() origin: RequestOrigin,
  ): Promise<OrganizationEnvelopeDto> {
    const change = { newName: body.new_organization_name, email: body.email, password: body.password };
    return envelope(UPDATED, await this.organizations.update({ name: targetName(body) }, change, viewer, origin));
  }

  @Delete('delete')
  @DeleteOrganizationRoute(
    'Name the organization in the query or in a JSON body: one of the two is required, and when both ' +
      'are given they must name the same organization (else 400).',
    { GetOrganization: GET_IT },
  )
  @ApiBody({ type: DeleteOrganizationDto, required: false, description: 'Or pass organization_name in the query' })
  async delete(
    @Query() query: DeleteOrganizationDto,
    @Body() body: DeleteOrganizationDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin,
  ): Promise<DeletedOrganizationEnvelopeDto> {
    return envelope(DELETED, await this.organizations.delete({ name: nameFromEither(query, body) }, viewer));
  }
}

function targetName(dto: UpdateOrganizationDto): string {
  if (dto.organization_name !== undefined && dto.old_organization_name !== undefined) {
    throw new BadRequestException('Give either organization_name or old_organization_name, not both');
  }
  return (dto.organization_name ?? dto.old_organization_name) as string;
}

function nameFromEither(query: DeleteOrganizationDto, body: DeleteOrganizationDto): string {
  const [fromQuery, fromBody] = [query.organization_name, body.organization_name];
  if (fromQuery === undefined && fromBody === undefined) {
    throw validationFailed([
      { field: 'organization_name', message: 'organization_name is required in the query or the body' },
    ]);
  }
  if (fromQuery !== undefined && fromBody !== undefined && toSlug(fromQuery) !== toSlug(fromBody)) {
    throw new BadRequestException('organization_name differs between the query and the body');
  }
  return (fromQuery ?? fromBody) as string;
}
