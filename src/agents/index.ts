/**
 * Agents: LangChain 1.x middleware for `createAgent`. Import from `langchain-autopicker/agents`
 * (it needs the `langchain` package; the main entry does not).
 */
export { type RunBudgetMiddlewareOptions, runBudgetMiddleware } from "./runBudgetMiddleware";
