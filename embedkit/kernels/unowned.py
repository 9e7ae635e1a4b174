"""unowned(a): a view of array `a` that numba does not reference-count.

numba reference-counts every array it hands to a helper function, even an inlined one: an atomic
increment and decrement of the array's MemInfo per call. In the word2vec kernels that is several
atomic pairs per logistic step, and the weight matrices and sampling tables are shared by all
Hogwild workers, so every pair also bounces one cache line between the cores. A view whose MemInfo
is NULL turns those into a not-taken null test (numba's NRT_incref/NRT_decref return at once on
NULL). The caller must keep `a` alive while the view is in use: the kernels take views of their
own arguments, which the calling Python frame holds for the whole call.
"""
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def unowned(typingctx, arr):
    def codegen(context, builder, sig, args):
        view = cgutils.create_struct_proxy(sig.args[0])(context, builder, value=args[0])
        view.meminfo = cgutils.get_null_value(view.meminfo.type)
        view.parent = cgutils.get_null_value(view.parent.type)
        return view._getvalue()
    return arr(arr), codegen
