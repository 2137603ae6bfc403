import { ApiProperty, IntersectionType } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { IsObjectId, OrganizationIdParamDto, OrganizationScopeQueryDto } from '../../access/dto/organization-scope.dto';
import { Optional } from '../../common/decorators/optional.decorator';
import { PageQueryDto } from '../../common/dto/page-query.dto';
import { MEMBER_ROLES, MemberRole } from '../schemas/member.schema';

export class ListMembersQueryDto extends PageQueryDto {
  /** Only members of this role. @example "admin" */
  @ApiProperty({ enum: MEMBER_ROLES, required: false })
  @Optional()
  @IsIn(MEMBER_ROLES)
  role?: MemberRole;
}

export class ScopedListMembersQueryDto extends IntersectionType(ListMembersQueryDto, OrganizationScopeQueryDto) {}

export class MemberIdParamDto {
  /** @example "665f1c2e8b3e4a1d2c3b4a61" */
  @IsObjectId()
  member_id: string;
}

export class OrganizationMemberParamsDto extends IntersectionType(OrganizationIdParamDto, MemberIdParamDto) {}
