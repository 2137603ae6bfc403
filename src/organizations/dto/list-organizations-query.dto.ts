import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { Optional } from '../../common/decorators/optional.decorator';
import { WholeNumber } from '../../common/decorators/whole-number.decorator';

/** Both optional: the defaults stand for what is absent (the plugin cannot tell from an initializer). */
export class ListOrganizationsQueryDto {
  /** @example 1 */
  @ApiProperty({ type: 'integer', required: false })
  @Optional()
  @WholeNumber()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  page: number = 1;

  /** @example 20 */
  @ApiProperty({ type: 'integer', required: false })
  @Optional()
  @WholeNumber()
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;
}
