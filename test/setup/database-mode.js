process.env.TENANCY_MODE = 'database';
