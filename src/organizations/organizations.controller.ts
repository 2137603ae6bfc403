import { BadRequestException, Body, Controller, Delete, Get, Post, Put, Query, UseGuards } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthenticatedAdmin } from '../auth/authenticated-admin';
import { ApiAuth } from '../common/decorators/api-auth.decorator';
import { ApiProblems } from '../common/decorators/api-problems.decorator';
import { CurrentAdmin } from '../common/decorators/current-admin.decorator';
import { JwtAuthGuard } from '../common/guards/jwt-auth.guard';
import { OptionalJwtAuthGuard } from '../common/guards/optional-jwt-auth.guard';
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
  @ApiOperation({ summary: 'Create an organization, its admin and its storage' })
  @ApiCreatedResponse({ type: OrganizationEnvelopeDto })
  @ApiProblems(400, 409, 413)
  async create(@Body() body: CreateOrganizationDto): Promise<OrganizationEnvelopeDto> {
    const data = await this.organizations.create(body);
    return { success: true, message: 'Organization created successfully', data };
  }

  @Get('get')
  @UseGuards(OptionalJwtAuthGuard)
  @ApiAuth()
  @ApiOperation({ summary: 'Get an organization; its own admin or a superadmin also sees admin_email' })
  @ApiOkResponse({ type: OrganizationEnvelopeDto })
  @ApiProblems(400, 401, 404)
  async get(
    @Query() query: OrganizationNameQueryDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin | undefined,
  ): Promise<OrganizationEnvelopeDto> {
    const data = await this.organizations.get(query.organization_name, viewer);
    return { success: true, message: 'Organization retrieved successfully', data };
  }

  @Get('list')
  @UseGuards(JwtAuthGuard)
  @ApiAuth()
  @ApiOperation({ summary: 'List organizations, a page at a time (superadmin only)' })
  @ApiOkResponse({ type: OrganizationPageEnvelopeDto })
  @ApiProblems(400, 401, 403)
  async list(
    @Query() query: ListOrganizationsQueryDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin,
  ): Promise<OrganizationPageEnvelopeDto> {
    const data = await this.organizations.list(viewer, query);
    return { success: true, message: 'Organizations retrieved successfully', data };
  }

  @Put('update')
  @UseGuards(JwtAuthGuard)
  @ApiAuth()
  @ApiOperation({
    summary: 'Rename an organization or change its admin credentials',
    description: "A new email or password revokes the admin's tokens; a rename keeps them working.",
  })
  @ApiOkResponse({ type: OrganizationEnvelopeDto })
  @ApiProblems(400, 401, 403, 404, 409, 413)
  async update(
    @Body() body: UpdateOrganizationDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin,
  ): Promise<OrganizationEnvelopeDto> {
    const data = await this.organizations.update(body, viewer);
    return { success: true, message: 'Organization updated successfully', data };
  }

  @Delete('delete')
  @UseGuards(JwtAuthGuard)
  @ApiAuth()
  @ApiOperation({ summary: 'Delete an organization, its admin and all of its storage' })
  @ApiBody({ type: DeleteOrganizationDto, required: false, description: 'Or pass organization_name in the query' })
  @ApiOkResponse({ type: DeletedOrganizationEnvelopeDto })
  @ApiProblems(400, 401, 403, 404, 409, 413)
  async delete(
    @Query() query: DeleteOrganizationDto,
    @Body() body: DeleteOrganizationDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin,
  ): Promise<DeletedOrganizationEnvelopeDto> {
    const data = await this.organizations.delete(nameFromEither(query, body), viewer);
    return { success: true, message: 'Organization deleted successfully', data };
  }
}

function nameFromEither(query: DeleteOrganizationDto, body: DeleteOrganizationDto): string {
  const [fromQuery, fromBody] = [query.organization_name, body.organization_name];
  if (fromQuery === undefined && fromBody === undefined) {
    throw new BadRequestException({
      message: 'Request validation failed',
      errors: [{ field: 'organization_name', message: 'organization_name is required in the query or the body' }],
    });
  }
  if (fromQuery !== undefined && fromBody !== undefined && toSlug(fromQuery) !== toSlug(fromBody)) {
    throw new BadRequestException('organization_name differs between the query and the body');
  }
  return (fromQuery ?? fromBody) as string;
}
