import { ExecutionContext, ForbiddenException, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { Auth, ORGANIZATION_ADMINS, SUPERADMINS } from '../decorators/auth.decorator';
import { Public } from '../decorators/public.decorator';
import { Role } from '../../admins/schemas/admin.schema';
import { JwtAuthGuard } from './jwt-auth.guard';

class Routes {
  @Public() open() {}
  @Auth({ optional: true }) optional() {}
  @Auth(SUPERADMINS) superadminOnly() {}
  @Auth(ORGANIZATION_ADMINS) adminsOnly() {}
  undecorated() {}
}

function contextFor(handler: keyof Routes, request: { headers: Record<string, string>; user?: object }) {
  return {
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
}

describe('JwtAuthGuard', () => {
  const guard = new JwtAuthGuard(new Reflector());
  /** Passport's verdict, as the JWT strategy would give it: a user, or a 401. */
  let passport: jest.SpyInstance;

  beforeEach(() => {
    passport = jest.spyOn(AuthGuard('jwt').prototype, 'canActivate');
  });

  afterEach(() => jest.restoreAllMocks());

  it('lets anyone through a @Public() route without asking passport', async () => {
    expect(await guard.canActivate(contextFor('open', { headers: { authorization: 'Bearer junk' } }))).toBe(true);
    expect(passport).not.toHaveBeenCalled();
  });

  it('requires a valid token on a route with no decorator at all', async () => {
    passport.mockRejectedValue(new UnauthorizedException());
    await expect(guard.canActivate(contextFor('undecorated', { headers: {} }))).rejects.toBeInstanceOf(
      UnauthorizedException,
    );
  });

  it('lets an anonymous caller through an optional route, but checks a token that is sent', async () => {
    expect(await guard.canActivate(contextFor('optional', { headers: {} }))).toBe(true);
    expect(passport).not.toHaveBeenCalled();
    passport.mockRejectedValue(new UnauthorizedException());
    await expect(
      guard.canActivate(contextFor('optional', { headers: { authorization: 'Bearer junk' } })),
    ).rejects.toBeInstanceOf(UnauthorizedException);
  });

  it('answers 403 to a valid token that is not a superadmin on a superadmin route', async () => {
    passport.mockResolvedValue(true);
    const admin = { headers: { authorization: 'Bearer x' }, user: { role: Role.Admin } };
    await expect(guard.canActivate(contextFor('superadminOnly', admin))).rejects.toBeInstanceOf(ForbiddenException);
    const superadmin = { headers: { authorization: 'Bearer x' }, user: { role: Role.Superadmin } };
    expect(await guard.canActivate(contextFor('superadminOnly', superadmin))).toBe(true);
  });

  it('answers 403 to a member on a route for organization admins, and lets admins and superadmins through', async () => {
    passport.mockResolvedValue(true);
    const as = (role: Role) => contextFor('adminsOnly', { headers: { authorization: 'Bearer x' }, user: { role } });
    await expect(guard.canActivate(as(Role.Member))).rejects.toBeInstanceOf(ForbiddenException);
    expect(await guard.canActivate(as(Role.Admin))).toBe(true);
    expect(await guard.canActivate(as(Role.Superadmin))).toBe(true);
  });
});
