process.env.TENANCY_MODE = 'collection';
