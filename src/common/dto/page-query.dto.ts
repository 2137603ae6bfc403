import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { Optional } from '../decorators/optional.decorator';
import { WholeNumber } from '../decorators/whole-number.decorator';

/** A page of a list. Both optional: the defaults stand for what is absent (the plugin cannot tell from an initializer). */
export class PageQueryDto {
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
