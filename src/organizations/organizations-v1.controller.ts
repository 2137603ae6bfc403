import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { OrganizationIdParamDto } from '../access/dto/organization-scope.dto';
import type { AuthenticatedAdmin } from '../auth/authenticated-admin';
import { CurrentAdmin } from '../auth/decorators/current-admin.decorator';
import { Origin, type RequestOrigin } from '../common/decorators/request-origin.decorator';
import { PageQueryDto } from '../common/dto/page-query.dto';
import { envelope } from '../common/envelope';
import { CreateOrganizationDto } from './dto/create-organization.dto';
import {
  DeletedOrganizationEnvelopeDto,
  OrganizationEnvelopeDto,
  OrganizationPageEnvelopeDto,
} from './dto/organization.dto';
import { PatchOrganizationDto } from './dto/patch-organization.dto';
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

/** The organizations as a resource addressed by id (which a rename keeps); the same service as /org. */
@ApiTags('Organizations')
@Controller({ path: 'organizations', version: '1' })
export class OrganizationsV1Controller {
  constructor(private readonly organizations: OrganizationsService) {}

  @Post()
  @CreateOrganizationRoute()
  async create(@Body() body: CreateOrganizationDto, @Origin() origin: RequestOrigin): Promise<OrganizationEnvelopeDto> {
    return envelope(CREATED, await this.organizations.create(body, origin));
  }

  @Get()
  @ListOrganizationsRoute()
  async list(@Query() query: PageQueryDto): Promise<OrganizationPageEnvelopeDto> {
    return envelope(LISTED, await this.organizations.list(query));
  }

  @Get(':organization_id')
  @GetOrganizationRoute()
  async get(
    @Param() params: OrganizationIdParamDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin | undefined,
  ): Promise<OrganizationEnvelopeDto> {
    return envelope(RETRIEVED, await this.organizations.get({ id: params.organization_id }, viewer));
  }

  @Patch(':organization_id')
  @UpdateOrganizationRoute()
  async update(
    @Param() params: OrganizationIdParamDto,
    @Body() body: PatchOrganizationDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin,
    @Origin() origin: RequestOrigin,
  ): Promise<OrganizationEnvelopeDto> {
    const change = { newName: body.organization_name, email: body.email, password: body.password };
    return envelope(UPDATED, await this.organizations.update({ id: params.organization_id }, change, viewer, origin));
  }

  @Delete(':organization_id')
  @DeleteOrganizationRoute()
  async delete(
    @Param() params: OrganizationIdParamDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin,
  ): Promise<DeletedOrganizationEnvelopeDto> {
    return envelope(DELETED, await this.organizations.delete({ id: params.organization_id }, viewer));
  }
}
