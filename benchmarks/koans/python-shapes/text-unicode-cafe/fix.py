# Addition pour un petit café : prix en centimes, pourboire et message de remerciement.

CARTE = {
    "café crème": 320,
    "thé à la menthe": 350,
    "croissant": 180,
    "pain au chocolat": 210,
    "crêpe": 450,
}


def total_commande(commande):
    total = 0
    for article, quantité in commande.items():
        total += CARTE[article] * quantité
    return total


def avec_pourboire(centimes, pourcentage=10):
    return centimes + round(centimes * pourcentage / 100)


def en_euros(centimes):
    return f"{centimes // 100},{centimes % 100:02d} €"


def remerciement(nom):
    return f"Merci {nom} ! À bientôt ☕"


commande = {"café crème": 2, "crêpe": 1, "croissant": 3}
total = total_commande(commande)
assert total == 2 * 320 + 450 + 3 * 180
assert en_euros(total) == "16,30 €"
assert en_euros(avec_pourboire(total)) == "17,93 €"
assert remerciement("Zoé") == "Merci Zoé ! À bientôt ☕"
assert len("☕") == 1
