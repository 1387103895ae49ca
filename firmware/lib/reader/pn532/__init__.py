"""PN532 front-end driver: frame codec -> chipset dialog -> device operations; buses HSU/I2C/SPI.

Layering (each imports only those before it): ``frame`` (pure codec), ``chipset`` (command
dialog, status faults), ``bus_*`` (byte transport; only I2C/SPI touch ``machine``), ``device``
(operations named after UM0701-02 §7). Nothing here knows about cards sessions or the link.
"""
