"""Pictures of a training and of a vector space (`embedkit plot`).

    import embedkit
    embedkit.plot_curves("out/demo", "curves.png")                 # loss against words processed
    embedkit.plot_map("out/demo", "map.png", words=["king", "water"], method="pca")

curves: the training log of a model folder -> loss curve (+ per-epoch evaluation when logged);
projection: 2-D projections of vectors (PCA in numpy, t-SNE from scikit-learn), a table by name;
wordmap: query words and their nearest neighbours, projected and labelled; figure: the lazy
matplotlib import and the atomic write shared by both pictures.

matplotlib and scikit-learn are the optional extra `plot` (pip install 'embedkit[plot]'); they are
imported only when a picture is drawn.
"""
