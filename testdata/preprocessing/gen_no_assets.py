"""Writes no_assets.keras: goldens-text/textvectorization/tv_default_len12_lstm's
model.keras without its assets/ members (a .keras whose TextVectorization lost
its vocabulary, as when a project strips or re-zips the archive), and
vocabulary.txt: the asset that was removed, for keras.WithVocabulary.

Run from this folder: python3 gen_no_assets.py (standard library only)."""
import zipfile

SRC = "../goldens-text/textvectorization/tv_default_len12_lstm/model.keras"
with zipfile.ZipFile(SRC) as src, zipfile.ZipFile("no_assets.keras", "w", zipfile.ZIP_STORED) as dst:
    for info in src.infolist():
        if info.filename.startswith("assets/"):
            if info.filename == "assets/layers/text_vectorization/vocabulary.txt":
                with open("vocabulary.txt", "wb") as f:
                    f.write(src.read(info))
            continue
        dst.writestr(info, src.read(info))
