export class PasswordChangedDto {
  /** Whose password changed: their tokens no longer work. @example "665f1c2e8b3e4a1d2c3b4a61" */
  admin_id: string;
}

export class PasswordChangedEnvelopeDto {
  /** @example true */
  success: boolean;

  /** @example "Password changed; log in again" */
  message: string;

  data: PasswordChangedDto;
}
