import { applyDecorators, Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { OrganizationIdParamDto } from '../access/dto/organization-scope.dto';
import { namedOrOwn } from '../access/organization-access.service';
import type { AuthenticatedAdmin } from '../auth/authenticated-admin';
import { Auth, ORGANIZATION_ADMINS } from '../auth/decorators/auth.decorator';
import { CurrentAdmin } from '../auth/decorators/current-admin.decorator';
import { ApiProblems } from '../common/decorators/api-problems.decorator';
import { envelope } from '../common/envelope';
import { AuditService } from './audit.service';
import { AuditPageEnvelopeDto } from './dto/audit-entry.dto';
import { AuditQueryDto, ScopedAuditQueryDto } from './dto/audit-query.dto';

const RETRIEVED = 'Audit trail retrieved successfully';

/** The one operation, at either address. */
const ListAuditRoute = () =>
  applyDecorators(
    Get(),
    Auth(ORGANIZATION_ADMINS),
    ApiOperation({ summary: "An organization's audit trail, newest first (its admins and superadmins)" }),
    ApiOkResponse({ type: AuditPageEnvelopeDto }),
    ApiProblems(400, 404, 409),
  );

@ApiTags('Audit')
@Controller('org/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @ListAuditRoute()
  async list(
    @Query() query: ScopedAuditQueryDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin,
  ): Promise<AuditPageEnvelopeDto> {
    return envelope(RETRIEVED, await this.audit.list(namedOrOwn(query.organization_name, viewer), viewer, query));
  }
}

@ApiTags('Audit')
@Controller({ path: 'organizations/:organization_id/audit', version: '1' })
export class AuditV1Controller {
  constructor(private readonly audit: AuditService) {}

  @ListAuditRoute()
  async list(
    @Param() params: OrganizationIdParamDto,
    @Query() query: AuditQueryDto,
    @CurrentAdmin() viewer: AuthenticatedAdmin,
  ): Promise<AuditPageEnvelopeDto> {
    return envelope(RETRIEVED, await this.audit.list({ id: params.organization_id }, viewer, query));
  }
}
