import { fastJsBackend } from "../../src/kernels/js-fast.js";
import { backendSuite } from "./suite.js";

backendSuite(fastJsBackend);
