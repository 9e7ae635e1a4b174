"""unowned(x): a view of array `x`, or of every array inside the (named) tuple `x`, that numba does
not reference-count.

numba reference-counts every array it hands to a helper function, even an inlined one: an atomic
increment and decrement of the array's MemInfo per call. In the word2vec kernels that is several
atomic pairs per logistic step, and the weight matrices and sampling tables are shared by all
Hogwild workers, so every pair also bounces one cache line between the cores. A view whose MemInfo
is NULL turns those into a not-taken null test (numba's NRT_incref/NRT_decref return at once on
NULL). The caller must keep `x` alive while the view is in use: the kernels take views of their
own arguments, which the calling Python frame holds for the whole call. Tuples (the kernels'
named tables) come back as the same tuple type with each array member replaced by its view.
"""
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _null_owner(context, builder, ty, value):
    """`value` of numba type `ty` with the MemInfo and parent of every array in it set to NULL."""
    if isinstance(ty, types.Array):
        view = cgutils.create_struct_proxy(ty)(context, builder, value=value)
        view.meminfo = cgutils.get_null_value(view.meminfo.type)
        view.parent = cgutils.get_null_value(view.parent.type)
        return view._getvalue()
    if isinstance(ty, types.BaseTuple):
        for k, member in enumerate(ty.types):
            value = builder.insert_value(value, _null_owner(context, builder, member,
                                                            builder.extract_value(value, k)), k)
    return value


@intrinsic
def unowned(typingctx, x):
    def codegen(context, builder, sig, args):
        return _null_owner(context, builder, sig.args[0], args[0])
    return x(x), codegen
