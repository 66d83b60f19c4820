import { fastJsBackend } from "../../src/kernels/js/backend.js";
import { backendSuite } from "./suite.js";

backendSuite(fastJsBackend);
