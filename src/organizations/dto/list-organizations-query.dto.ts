import { IsInt, Max, Min } from 'class-validator';
import { Optional } from '../../common/decorators/optional.decorator';
import { WholeNumber } from '../../common/decorators/whole-number.decorator';

export class ListOrganizationsQueryDto {
  /** @example 1 */
  @Optional()
  @WholeNumber()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  page: number = 1;

  /** @example 20 */
  @Optional()
  @WholeNumber()
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;
}
