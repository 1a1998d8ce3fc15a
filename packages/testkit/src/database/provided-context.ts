// What the int project's global setup hands to test files through vitest's provide/inject.
declare module "vitest" {
  export interface ProvidedContext {
    /** Migrated database that every test database is cloned from. */
    templateDatabase: string;
    /** Superuser connection (to the `postgres` database) used to create and drop test databases. */
    testDatabaseAdminUrl: string;
  }
}

export {};
