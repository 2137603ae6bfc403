import { Schema } from 'mongoose';
import { defineTenantEntity } from './tenant';

describe('defineTenantEntity', () => {
  const schema = new Schema({ text: String });

  it('refuses a second entity of the same name, which would share its collection', () => {
    expect(defineTenantEntity('invoices', schema)).toEqual({ name: 'invoices', schema });
    expect(() => defineTenantEntity('invoices', schema)).toThrow('Tenant entity "invoices" is already defined');
  });

  it('refuses a second default entity too', () => {
    defineTenantEntity(null, schema);
    expect(() => defineTenantEntity(null, schema)).toThrow('Tenant entity null is already defined');
  });

  it('refuses names that could collide with another storage name', () => {
    for (const name of ['Notes', 'a__b', 'data', '1notes', '']) {
      expect(() => defineTenantEntity(name, schema)).toThrow('Invalid tenant entity name');
    }
  });
});
