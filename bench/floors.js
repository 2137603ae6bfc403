'use strict';
/**
 * The floors `npm run bench` measures the service against, as a process of its own started like the
 * app (tools/app-process.js): bare Fastify and the plain MongoDB driver, on the same database and
 * answering the same JSON as the service, with nothing else on the way.
 *
 *   GET /health            (b) the same JSON from memory
 *   GET /org/get           (a) the one read of an anonymous GET /org/get, by slug, and its envelope
 *   GET /admin/me          (a') the two reads behind a token (the admin, its organization), at once
 *
 * Settings from the environment: MONGODB_URI, MASTER_DB_NAME, HOST, PORT.
 */
const Fastify = require('fastify');
const { MongoClient, ObjectId } = require('mongodb');

const VISIBLE = { state: { $nin: ['creating', 'deleted'] } };

async function main() {
  const client = await MongoClient.connect(process.env.MONGODB_URI);
  const db = client.db(process.env.MASTER_DB_NAME);
  const organizations = db.collection('organizations');
  const admins = db.collection('admins');
  const app = Fastify();

  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/health/ready', async () => ({ status: 'ok' }));

  app.get('/org/get', async (request, reply) => {
    const slug = toSlug(String(request.query.organization_name ?? ''));
    const organization = await organizations.findOne({ slug, ...VISIBLE });
    if (!organization) {
      return reply.code(404).send({ status: 404 });
    }
    return { success: true, message: 'Organization retrieved successfully', data: organizationJson(organization) };
  });

  app.get('/admin/me', async (request) => {
    const [admin, organization] = await Promise.all([
      admins.findOne({ _id: new ObjectId(String(request.query.admin_id)) }),
      organizations.findOne({ _id: new ObjectId(String(request.query.organization_id)) }),
    ]);
    return {
      success: true,
      message: 'Current admin retrieved',
      data: {
        admin_id: admin._id.toString(),
        email: admin.email,
        role: admin.role,
        is_member: false,
        organization_id: organization._id.toString(),
        organization_name: organization.organization_name,
      },
    };
  });

  await app.listen({ host: process.env.HOST, port: Number(process.env.PORT) });
  const stop = async () => {
    await app.close();
    await client.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

function toSlug(name) {
  return name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

function organizationJson(organization) {
  const storage = `org_${organization.slug}`;
  return {
    organization_id: organization._id.toString(),
    organization_name: organization.organization_name,
    slug: organization.slug,
    collection_name: storage,
    storage: { mode: process.env.TENANCY_MODE ?? 'collection', name: storage },
    admin_id: organization.admin_id.toString(),
    is_active: organization.is_active,
    created_at: organization.created_at,
    updated_at: organization.updated_at,
  };
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
