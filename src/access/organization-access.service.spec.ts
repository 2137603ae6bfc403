import { BadRequestException } from '@nestjs/common';
import { Types } from 'mongoose';
import { Role } from '../admins/schemas/admin.schema';
import type { AuthenticatedAdmin } from '../auth/authenticated-admin';
import { Organization } from '../tenancy/schemas/organization.schema';
import { Managers, mayManage, namedOrOwn } from './organization-access.service';

const organization = { _id: new Types.ObjectId() } as Organization;
const other = new Types.ObjectId().toString();

function viewer(role: Role, member: boolean, organizationId: string | null): AuthenticatedAdmin {
  return {
    adminId: new Types.ObjectId().toString(),
    email: 'someone@example.com',
    role,
    member,
    organization: organizationId ? ({ id: organizationId } as AuthenticatedAdmin['organization']) : null,
  };
}

describe('mayManage', () => {
  const own = organization._id.toString();

  it.each([
    ['a superadmin', viewer(Role.Superadmin, false, null), true, true],
    ['its first admin', viewer(Role.Admin, false, own), true, true],
    ['an admin member', viewer(Role.Admin, true, own), true, false],
    ['a plain member', viewer(Role.Member, true, own), false, false],
    ["another organization's first admin", viewer(Role.Admin, false, other), false, false],
  ])('lets %s manage its members (%s) and the organization itself (%s)', (_who, caller, admins, owner) => {
    expect(mayManage(organization, caller, Managers.Admins)).toBe(admins);
    expect(mayManage(organization, caller, Managers.Owner)).toBe(owner);
  });

  it('lets nobody in without a token', () => {
    expect(mayManage(organization, undefined, Managers.Admins)).toBe(false);
  });
});

describe('namedOrOwn', () => {
  it('takes the name the query gives, else the organization of the token', () => {
    expect(namedOrOwn('Acme', viewer(Role.Admin, false, other))).toEqual({ name: 'Acme' });
    expect(namedOrOwn(undefined, viewer(Role.Member, true, other))).toEqual({ id: other });
  });

  it('asks a superadmin, who has no organization of its own, to name one', () => {
    expect(() => namedOrOwn(undefined, viewer(Role.Superadmin, false, null))).toThrow(BadRequestException);
  });
});
