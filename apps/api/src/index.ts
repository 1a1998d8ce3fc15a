export { type AppDeps, buildApp } from "./app.js";
