export {
  type CreateTestDatabaseOptions,
  createTestDatabase,
  type TestDatabase,
  useTestDatabase,
} from "./test-database.js";
