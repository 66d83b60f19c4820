import type { Tensor } from "./tensor.js";

/** @internal The tensors built since the innermost `tidy` began (null outside one). */
export const tidyScope: { current: Tensor[] | null } = { current: null };
