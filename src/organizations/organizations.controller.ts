import { BadRequestException, Body, Controller, Delete, Get, Post, Put, Query } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthenticatedAdmin } from '../auth/authenticated-admin';
import { Auth } from '../auth/decorators/auth.decorator';
import { CurrentAdmin } from '../auth/decorators/current-admin.decorator';
import { Public } from '../auth/decorators/public.decorator';
import { ApiProblems } from '../common/decorators/api-problems.decorator';
import { envelope } from '../common/envelope';
import { validationFailed } from '../common/validation';
import { CreateOrganizationDto } from './dto/create-organization.dto';
import { DeleteOrganizationDto } from './dto/delete-organization.dto';
import { ListOrganizationsQueryDto } from './dto/list-organizations-query.dto';
import {
  DeletedOrganizationEnvelopeDto,
  OrganizationEnvelopeDto,
  OrganizationPageEnvelopeDto,
} from './dto/organization.dto';
import { OrganizationNameQueryDto } from './dto/organization-name-query.dto';
import { UpdateOrganizationDto } from './dto/update-organization.dto';
import { toSlug } from './organization-name';
import { OrganizationsService } from './organizations.service';

@ApiTags('Organizations')
@Controller('org')
export class OrganizationsController {
  constructor(private readonly organizations: OrganizationsService) {}

  @Post('create')
  @Public()
  @ApiOperation({ summary: 'Create an organization, its admin and its storage' })
  @ApiCreatedResponse({ type: OrganizationEnvelopeDto })
  @ApiProblems(400, 409, 413)
  async create(@Body() body: CreateOrganizationDto): Promise<OrganizationEnvelopeDto> {
    return envelope('Organization created successfully', await this.organizations.create(body));
  }

  @Get('get')
  @Auth({ optional: true })
  @ApiOperation({ summary: 'Get an organization; its own admin or a superadmin also sees admin_email' })
  @ApiOkResponse({ type: OrganizationEnvelopeDto })
  @ApiProblems(400, 404)
  async get(
    @Query() query: OrganizationNameQueryDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin | undefined,
  ): Promise<OrganizationEnvelopeDto> {
    return envelope(
      'Organization retrieved successfully',
      await this.organizations.get(query.organization_name, viewer),
    );
  }

  @Get('list')
  @Auth({ superadmin: true })
  @ApiOperation({ summary: 'List organizations, a page at a time (superadmin only)' })
  @ApiOkResponse({ type: OrganizationPageEnvelopeDto })
  @ApiProblems(400)
  async list(@Query() query: ListOrganizationsQueryDto): Promise<OrganizationPageEnvelopeDto> {
    return envelope('Organizations retrieved successfully', await this.organizations.list(query));
  }

  @Put('update')
  @Auth()
  @ApiOperation({
    summary: 'Rename an organization or change its admin credentials',
    description: "A new email or password revokes the admin's tokens; a rename keeps them working.",
  })
  @ApiOkResponse({ type: OrganizationEnvelopeDto })
  @ApiProblems(400, 403, 404, 409, 413)
  async update(
    @Body() body: UpdateOrganizationDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin,
  ): Promise<OrganizationEnvelopeDto> {
    return envelope('Organization updated successfully', await this.organizations.update(body, viewer));
  }

  @Delete('delete')
  @Auth()
  @ApiOperation({ summary: 'Delete an organization, its admin and all of its storage' })
  @ApiBody({ type: DeleteOrganizationDto, required: false, description: 'Or pass organization_name in the query' })
  @ApiOkResponse({ type: DeletedOrganizationEnvelopeDto })
  @ApiProblems(400, 403, 404, 409, 413)
  async delete(
    @Query() query: DeleteOrganizationDto,
    @Body() body: DeleteOrganizationDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin,
  ): Promise<DeletedOrganizationEnvelopeDto> {
    return envelope(
      'Organization deleted successfully',
      await this.organizations.delete(nameFromEither(query, body), viewer),
    );
  }
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
